"""Controlled vocabularies: the stored value and the words people read."""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """A vocabulary whose members know their plain-English label."""

    @property
    def label(self) -> str:
        return self._labels()[self.value]

    @classmethod
    def _labels(cls) -> dict[str, str]:
        raise NotImplementedError

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class Role(Labelled):
    VOLUNTEER = "volunteer"
    COORDINATOR = "coordinator"
    SAFEGUARDING_LEAD = "safeguarding_lead"
    SUBGROUP_LEAD = "subgroup_lead"
    BOARD_VIEWER = "board_viewer"
    ADMIN = "admin"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {
            "volunteer": "Forum volunteer",
            "coordinator": "Coordinator",
            "safeguarding_lead": "Safeguarding lead",
            "subgroup_lead": "Sub-group lead",
            "board_viewer": "Board viewer",
            "admin": "Admin",
        }


class EventKind(Labelled):
    COFFEE_MORNING = "coffee_morning"
    DROP_IN = "drop_in"
    PARK_EVENT = "park_event"
    ONLINE = "online"
    SURVEY = "survey"
    SCHOOL_VISIT = "school_visit"
    FOCUS_GROUP = "focus_group"
    OTHER = "other"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {
            "coffee_morning": "Coffee morning",
            "drop_in": "Drop-in",
            "park_event": "Park event",
            "online": "Online session",
            "survey": "Survey",
            "school_visit": "School visit",
            "focus_group": "Focus group",
            "other": "Other",
        }


class Respondent(Labelled):
    PARENT_CARER = "parent_carer"
    YOUNG_PERSON = "young_person"
    CHILD = "child"
    PROFESSIONAL = "professional"
    OTHER = "other"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {
            "parent_carer": "Parent or carer",
            "young_person": "Young person",
            "child": "Child",
            "professional": "Professional",
            "other": "Someone else",
        }


class Sentiment(Labelled):
    WORKING_WELL = "working_well"
    NEEDS_CHANGE = "needs_change"
    IDEA = "idea"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {
            "working_well": "Working well",
            "needs_change": "Needs to change",
            "idea": "An idea",
        }


class AgePhase(Labelled):
    EARLY_YEARS = "early_years"
    PRIMARY = "primary"
    SECONDARY = "secondary"
    POST_16 = "post_16"
    AGE_19_25 = "19_25"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {
            "early_years": "Early years",
            "primary": "Primary",
            "secondary": "Secondary",
            "post_16": "Post-16",
            "19_25": "19 to 25",
        }


class NeedType(Labelled):
    """The four broad areas of need in the SEND Code of Practice (2015), section 6.28."""

    COMMUNICATION = "communication_interaction"
    COGNITION = "cognition_learning"
    SEMH = "semh"
    SENSORY_PHYSICAL = "sensory_physical"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {
            "communication_interaction": "Communication and interaction",
            "cognition_learning": "Cognition and learning",
            "semh": "Social, emotional and mental health",
            "sensory_physical": "Sensory and/or physical",
        }


class Channel(Labelled):
    EVENT = "event"
    SELF_SUBMISSION = "self_submission"
    EMAIL = "email"
    PHONE = "phone"
    SURVEY = "survey"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {
            "event": "Logged at an event",
            "self_submission": "Sent in by the family",
            "email": "E-mail",
            "phone": "Phone call",
            "survey": "Survey",
        }


class FeedbackStatus(Labelled):
    NEW = "new"
    TRIAGED = "triaged"
    THEMED = "themed"
    ANSWERED = "answered"
    CLOSED = "closed"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {
            "new": "New",
            "triaged": "Triaged",
            "themed": "In a theme",
            "answered": "Answered",
            "closed": "Closed",
        }


class ThemeStatus(Labelled):
    OPEN = "open"
    RESPONDED = "responded"
    CLOSED = "closed"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {"open": "Waiting for a response", "responded": "Responded", "closed": "Closed"}


class Publication(Labelled):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {"draft": "Not published", "published": "Published", "withdrawn": "Withdrawn"}


class ActionKind(Labelled):
    WE_DID = "we_did"
    WE_WILL = "we_will"
    WE_CANT = "we_cant"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {"we_did": "We did", "we_will": "We will", "we_cant": "We can't"}


class ActionStatus(Labelled):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_POSSIBLE = "not_possible"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {
            "planned": "Planned",
            "in_progress": "In progress",
            "done": "Done",
            "not_possible": "Not possible",
        }


class StrategyStatus(Labelled):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {"draft": "Draft", "active": "Active", "archived": "Archived"}


class OutboxStatus(Labelled):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {"pending": "Waiting to send", "sent": "Sent", "dead": "Failed"}


class SafeguardingOutcome(Labelled):
    """What the safeguarding lead did about a flagged item."""

    REFERRAL_MADE = "referral_made"
    ADVICE_GIVEN = "advice_given"
    NO_FURTHER_ACTION = "no_further_action"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {
            "referral_made": "Referral made",
            "advice_given": "Advice given",
            "no_further_action": "No further action",
        }


class PrivateTermKind(Labelled):
    """Words the partnership adds to the personal-details checker."""

    SCHOOL = "school"
    SETTING = "setting"
    PERSON = "person"
    PLACE = "place"
    OTHER = "other"

    @classmethod
    def _labels(cls) -> dict[str, str]:
        return {
            "school": "School",
            "setting": "Setting or service",
            "person": "Person (staff or other)",
            "place": "Place",
            "other": "Other",
        }
