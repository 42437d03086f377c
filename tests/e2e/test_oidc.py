"""Single sign-on end to end: a real OpenID Connect provider (oidc-provider-mock) started here on 127.0.0.1, the
app configured for it in `.streamlit/secrets.toml`, and Chromium signing in through it. The role comes from the
`tutor_role` claim when present, otherwise from the users table (a new account is a learner)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, app_env, free_port, running_app

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The OIDC provider on a free port of 127.0.0.1, with two predefined users."""
    import werkzeug.serving
    from oidc_provider_mock import User, app

    users = [User(sub="ada", claims={"name": "Ada Lovelace", "email": "ada@example.org", "tutor_role": "author"}),
             User(sub="lei", claims={"name": "李雷", "email": "lei@example.org"})]
    server = werkzeug.serving.make_server("127.0.0.1", 0, app(user_claims=users), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("oidc")
    data_dir = base / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    (base / ".streamlit").mkdir()
    (base / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        'client_id = "mastery-tutor-test"\n'
        f'client_secret = "{secrets.token_urlsafe(16)}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    env = {**app_env(data_dir), "TUTOR_OIDC_ROLE_CLAIM": "tutor_role"}
    with running_app(base, env, data_dir, port) as app:
        yield app

def sign_in_as(browser: Any, server: Server, sub: str, shots: Path) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(server.url)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=sub, exact=True).click()  # the provider's page: a predefined user
    page.get_by_text("Signed in as").wait_for(timeout=60_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    page.screenshot(path=str(shots / f"13-oidc-{sub}.png"), full_page=True)
    return context, page


def test_single_sign_on_lands_on_the_role_from_the_claim_or_the_users_table(
    browser: Any, sso_server: Server, shots: Path
) -> None:
    context, page = sign_in_as(browser, sso_server, "ada", shots)
    try:
        text = page.inner_text("body")
        assert "Signed in as Ada Lovelace (author)" in text
        nav = [n.split()[-1] for n in page.get_by_test_id("stSidebarNavLink").all_inner_texts()]
        assert nav == ["Learn", "Content", "Review"]
        page.goto(sso_server.url + "/admin")
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        page.get_by_text("Not allowed").wait_for()
        page.reload()  # Streamlit's own identity cookie keeps the sign-in
        page.get_by_text("Signed in as Ada Lovelace (author)").wait_for(timeout=60_000)
    finally:
        context.close()
    context, page = sign_in_as(browser, sso_server, "lei", shots)
    try:
        assert "Signed in as 李雷 (learner)" in page.inner_text("body")
        assert page.get_by_test_id("stSidebarNavLink").count() == 0  # a learner has only the Learn page
    finally:
        context.close()
    from tutor.auth import Accounts

    accounts = Accounts(f"sqlite:///{(sso_server.data_dir / 'tutor.db').resolve()}")
    made = {a.display_name: a for a in accounts.all()}
    assert made["Ada Lovelace"].oidc_subject and not made["Ada Lovelace"].has_password
    assert made["李雷"].role.value == "learner"
