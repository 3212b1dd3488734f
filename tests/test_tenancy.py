"""One installation, several partnerships: no page reads another partnership's rows."""

from __future__ import annotations

from app.models.vocab import Role
from tests import factories
from tests.test_route_matrix import _build_objects, _rules, _url


def test_ids_from_another_partnership_are_not_found(app, client, auth):
    ours = factories.make_world("ours")
    theirs = factories.make_world("theirs")
    objects = _build_objects(theirs)
    # Someone with every role in our partnership, so no role rule stands in the way.
    everyone = factories.make_user(
        ours.partnership, *[r.value for r in Role], subgroups=list(ours.subgroups.values())
    )
    auth.login(everyone)
    leaks = []
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        if getattr(view, "is_public", False) or not rule.arguments:
            continue
        if "GET" not in (rule.methods or set()):
            continue
        url = _url(rule, objects, theirs)
        status = client.get(url).status_code
        if status != 404:
            leaks.append(f"{rule.endpoint} {url} answered {status}")
    assert leaks == []


def test_the_public_pages_show_only_the_configured_partnership(app, client):
    ours = factories.make_world("ours")
    theirs = factories.make_world("theirs")
    factories.make_theme(ours.partnership, title="Our theme", slug="our-theme", published=True)
    factories.make_theme(
        theirs.partnership, title="Their theme", slug="their-theme", published=True
    )
    app.config["PARTNERSHIP_SLUG"] = "theirs"
    assert client.get("/you-said-we-did/our-theme").status_code == 404
    page = client.get("/you-said-we-did").get_data(as_text=True)
    assert "Their theme" in page
    assert "Our theme" not in page
