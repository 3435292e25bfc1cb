from tests.support.api import Api


async def test_register_and_me(api: Api) -> None:
    s = await api.register()
    r = await api.me(s)
    assert r.status_code == 200
    assert r.json()["email"] == s.email
    mail = await api.mailbox.wait_for(s.email, "Verify your email address")
    assert mail.token()
