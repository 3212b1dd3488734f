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
