"""Every route as every role, checked against the permission matrix (DESIGN.md section 5).

A new route without @requires(...) or @public fails here, and so does a route that lets a role
in that the matrix keeps out.
"""

from __future__ import annotations

import pytest

from app.models.vocab import Role
from app.services import permissions
from app.services.permissions import MATRIX
from tests import factories

# Roles with a user in make_world(), and the user who stands for each.
ROLE_USERS = {
    Role.VOLUNTEER: "volunteer",
    Role.COORDINATOR: "coordinator",
    Role.SAFEGUARDING_LEAD: "safeguarding_lead",
    Role.SUBGROUP_LEAD: "subgroup_lead",
    Role.BOARD_VIEWER: "board_viewer",
    Role.ADMIN: "admin",
}


# Routes whose object-level rule may refuse an allowed role the fixture's object: a 403 there
# is right when the rule says no (a lead on a volunteer's event, an item already triaged).
OBJECT_RULES = {
    "capture.event": lambda user, o: permissions.can_manage_event(user, o["event"]),
    "capture.edit_event": lambda user, o: permissions.can_manage_event(user, o["event"]),
    "capture.edit_feedback": lambda user, o: permissions.can_edit_feedback(user, o["feedback"]),
    "capture.poster": lambda user, o: permissions.can_manage_event(user, o["event"]),
    "capture.young_poster": lambda user, o: permissions.can_manage_event(user, o["event"]),
    # Adding many items at once: pages of an event, under the same rule as the event page.
    **{
        f"capture.{name}": lambda user, o: permissions.can_manage_event(user, o["event"])
        for name in ("bulk_paste", "bulk_preview", "bulk_import", "bulk_columns", "bulk_check")
    },
}


def _refused_by_object_rule(endpoint, user, objects) -> bool:
    rule = OBJECT_RULES.get(endpoint)
    return rule is not None and not rule(user, objects)


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def test_every_route_declares_who_may_use_it(app):
    undeclared = []
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        if not (getattr(view, "is_public", False) or getattr(view, "required_permission", None)):
            undeclared.append(rule.endpoint)
    assert undeclared == [], f"Routes with no permission rule: {undeclared}"


def _build_objects(world):
    """One of each object, all with id 1 where possible, owned so that allowed roles pass
    the object-level rules (the volunteer's event and item, a theme of the lead's sub-group)."""
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    item = factories.make_feedback(world.partnership, event=event, entered_by=world.volunteer)
    theme = factories.make_theme(
        world.partnership,
        subgroup=world.subgroups["CCE"],
        priorities=[world.priorities["SEMH"]],
        feedback=[item],
        created_by=world.coordinator2,
    )
    action = factories.make_action(theme)
    factories.make_update(action)
    return {"theme": theme, "event": event, "feedback": item, "action": action}


def _url(rule, objects, world):
    values = {}
    for arg in rule.arguments:
        if arg == "slug":
            values[arg] = objects["theme"].slug
        elif arg == "filename":
            values[arg] = "images/favicon.ico"
        elif arg == "code":
            values[arg] = "semh"
        elif arg == "user_id":
            values[arg] = world.volunteer.id
        else:
            values[arg] = 1
    return rule.build(values, append_unknown=False)[1]


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_each_role_gets_exactly_what_the_matrix_allows(app, client, auth, world, role):
    objects = _build_objects(world)
    user = getattr(world, ROLE_USERS[role])
    auth.login(user)
    problems = []
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        permission = getattr(view, "required_permission", None)
        if permission is None or rule.endpoint == "auth.sign_out":
            continue
        allowed = role in MATRIX[permission]
        url = _url(rule, objects, world)
        methods = rule.methods or set()
        if "GET" in methods:
            status = client.get(url).status_code
            if status == 403 and _refused_by_object_rule(rule.endpoint, user, objects):
                continue
            if allowed and status in (403, 500):
                problems.append(f"GET {url} ({rule.endpoint}) gave {status} to {role}")
            if not allowed and status != 403:
                problems.append(f"GET {url} ({rule.endpoint}) gave {status} to {role}, not 403")
        if "POST" in methods and not allowed:
            status = client.post(url, data={}).status_code
            if status != 403:
                problems.append(f"POST {url} ({rule.endpoint}) gave {status} to {role}, not 403")
    assert problems == []


def test_signed_out_people_are_sent_to_sign_in(app, client, world):
    _build_objects(world)
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        if getattr(view, "is_public", False):
            continue
        url = _url(rule, {"theme": type("T", (), {"slug": "x"})()}, world)
        method = "get" if "GET" in (rule.methods or set()) else "post"
        response = getattr(client, method)(url)
        if method == "post" and getattr(view, "keeps_typed_when_signed_out", False):
            # Capture keeps what was typed: a page that signs in and saves, not a redirect.
            assert response.status_code == 401, rule.endpoint
            assert "You have been signed out" in response.get_data(as_text=True)
            continue
        assert response.status_code == 302, f"{rule.endpoint} answered {response.status_code}"
        assert "/sign-in" in response.headers["Location"]


def test_a_deactivated_user_is_signed_out(app, client, auth, world):
    auth.login(world.coordinator)
    assert client.get("/home").status_code == 200
    world.coordinator.active = False
    from app.extensions import db

    db.session.commit()
    response = client.get("/home")
    assert response.status_code == 302
