from bs4 import BeautifulSoup

from tests import factories


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_sign_in_and_home(client, auth, world):
    auth.login(world.coordinator)
    page = client.get("/home")
    assert page.status_code == 200
    assert "Your work" in page.get_data(as_text=True)


def test_wrong_password_is_refused_with_a_message(client, world):
    page = client.post("/sign-in", data={"email": world.coordinator.email, "password": "nope"})
    assert page.status_code == 200
    assert "Enter a correct email address and password" in page.get_data(as_text=True)
    assert factories.PASSWORD not in page.get_data(as_text=True)


def test_board_viewer_home_shows_the_evidence_in_numbers(client, auth, world):
    from datetime import date

    event = factories.make_event(world.partnership, adults_count=10, young_people_count=4)
    item = factories.make_feedback(world.partnership, event=event)
    factories.make_feedback(world.partnership, event=event, safeguarding_flag=True)
    theme = factories.make_theme(world.partnership, feedback=[item], published=True)
    factories.make_action(theme, published=True, status="done", kind="we_did")
    factories.make_action(theme, published=True, status="in_progress", target_date=date(2020, 1, 1))
    factories.make_action(theme, status="planned")  # a draft: not counted
    auth.login(world.board_viewer)
    page = BeautifulSoup(client.get("/home").data, "html.parser")
    rows = {
        row.dt.get_text(strip=True): row.dd.get_text(strip=True)
        for row in page.select(".govuk-summary-list__row")
    }
    assert rows["Events held"] == "1"
    assert rows["People who took part"] == "16"
    assert rows["Things people told us"] == "1"
    assert rows["Themes published"] == "1"
    assert rows["Published actions done"] == "1"
    assert rows["Published actions planned"] == "0"
    assert rows["Published actions past their target date"] == "1"


def test_a_volunteer_sees_no_board_evidence(client, auth, world):
    auth.login(world.volunteer)
    assert "Evidence for the SEND Board" not in client.get("/home").get_data(as_text=True)


def test_healthz_answers_503_when_the_database_is_down(tmp_path):
    from app import create_app
    from app.config import TestConfig

    missing = tmp_path / "no-such-folder" / "db.sqlite3"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unavailable"}


def test_signing_out_ends_the_session_everywhere(app, client, world):
    def request(browser, method, url, **kw):
        # Each request in its own app context, as in production: the test's shared one would
        # keep Flask-Login's loaded user in `g` from one request to the next.
        with app.app_context():
            return getattr(browser, method)(url, **kw)

    sign_in = {"email": world.coordinator.email, "password": factories.PASSWORD}
    assert request(client, "post", "/sign-in", data=sign_in).status_code == 302
    # Someone copies the session cookie: another tab, another device, a shared computer.
    copied = app.test_client()
    copied.set_cookie("session", client.get_cookie("session").value)
    assert request(copied, "get", "/home").status_code == 200
    # The same person is signed in on a second device too.
    other_device = app.test_client()
    assert request(other_device, "post", "/sign-in", data=sign_in).status_code == 302
    assert request(other_device, "get", "/home").status_code == 200

    assert request(client, "post", "/sign-out").status_code == 302

    for stale in (client, copied, other_device):
        response = request(stale, "get", "/home")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in")
    # Signing in again works as before.
    assert request(client, "post", "/sign-in", data=sign_in).status_code == 302
    assert request(client, "get", "/home").status_code == 200


def test_home_task_cards_say_one_or_many(client, auth, world):
    factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    page = client.get("/home").get_data(as_text=True)
    assert "event you have created" in page
    assert "events you have created" not in page
    factories.make_event(world.partnership, created_by=world.volunteer)
    assert "events you have created" in client.get("/home").get_data(as_text=True)
