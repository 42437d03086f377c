"""Who is signed in to this browser session, and what they may do: sign-in, sign-out, role checks.

Local accounts sign in with a name and password; the browser then keeps a signed, expiring token in a cookie
(`tutor_session`, written by a small script on the page, read back on the server from `st.context.cookies`), so a
reload keeps the session. When `[auth]` is configured in `.streamlit/secrets.toml`, people sign in through that
OpenID Connect provider with `st.login` instead, and `st.user` says who they are. Every page and every action calls
`require(action)` (or `may(action)`), which checks the role on the server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import streamlit as st

from tutor.auth import Account, AccountError, Accounts, Action, Role, SignInRefused, Throttled, allowed
from tutor.auth.names import AccountNameError
from tutor.auth.passwords import PasswordError
from tutor.auth.store import CLIENT_POLICY, NAME_POLICY
from tutor.auth.throttle import Policy
from tutor.auth.tokens import Signer, load_secret
from tutor.settings import Settings

log = logging.getLogger(__name__)

COOKIE = "tutor_session"
TOKEN = "auth_token"
NOT_ALLOWED = "Not allowed: your role ({role}) cannot use this page. Ask an admin if you need it."


@st.cache_resource
def get_accounts() -> Accounts:
    settings = Settings()
    name_policy = Policy(max_failures=settings.sign_in_max_failures, window=NAME_POLICY.window)
    return Accounts(settings.resolved_database_url, name_policy=name_policy, client_policy=CLIENT_POLICY)


@st.cache_resource
def get_signer() -> Signer:
    settings = Settings()
    configured = settings.auth_secret.get_secret_value() if settings.auth_secret else None
    return Signer(load_secret(configured, settings.data_dir), int(settings.session_hours * 3600))


def settings() -> Settings:
    return Settings()


def oidc_config() -> Mapping[str, Any] | None:
    """The `[auth]` section of `.streamlit/secrets.toml` when single sign-on is configured, else None."""
    try:
        if not st.secrets.load_if_toml_exists() or "auth" not in st.secrets:
            return None
        section: Mapping[str, Any] = st.secrets["auth"]
        return section
    except Exception:  # a secrets file that cannot be read: no single sign-on (Streamlit reports the file)
        log.warning("could not read .streamlit/secrets.toml; single sign-on is off")
        return None


def _client() -> str:
    return st.context.ip_address or "local"


def _write_cookie(token: str | None) -> None:
    """Set (or, with None, delete) the sign-in cookie in this browser."""
    secure = "; Secure" if str(st.context.url or "").startswith("https:") else ""
    if token is None:
        value = f"{COOKIE}=; Max-Age=0; Path=/; SameSite=Strict{secure}"
    else:
        max_age = get_signer().max_age
        value = f"{COOKIE}={token}; Max-Age={max_age}; Path=/; SameSite=Strict{secure}"
    st.html(f"<script>document.cookie = {json.dumps(value)};</script>", unsafe_allow_javascript=True)


def _oidc_account(config: Mapping[str, Any]) -> Account | None:
    """The account of the person signed in through the OIDC provider (created as a learner on first sign-in)."""
    if not st.user.is_logged_in:
        return None
    claims = st.user.to_dict()
    subject = f"{claims.get('iss', '')}|{claims.get('sub', '')}"
    accounts = get_accounts()
    account = accounts.by_subject(subject)
    role_claim = settings().oidc_role_claim
    claimed: Role | None = None
    if role_claim and isinstance(claims.get(role_claim), str):
        try:
            claimed = Role(str(claims[role_claim]).strip().lower())
        except ValueError:
            log.warning("OIDC claim %s holds no known role; using the users table", role_claim)
    if account is None:
        base = str(claims.get("preferred_username") or claims.get("email") or claims.get("sub") or "user")
        display = str(claims.get("name") or base)
        name = base
        for n in range(2, 100):
            if accounts.find(name) is None:
                break
            name = f"{base}-{n}"
        try:
            account = accounts.add(name, None, claimed or Role.LEARNER, display_name=display, oidc_subject=subject)
        except (AccountError, AccountNameError) as exc:
            st.error(f"Your sign-in could not be matched to an account ({exc}); ask an admin.")
            return None
    if claimed is not None and claimed is not account.role:
        account = accounts.set_role(account.username, claimed)
    return None if account.disabled else account


def current_account() -> Account | None:
    """The signed-in account, checked against the database on every run (a disabled account is signed out)."""
    config = oidc_config()
    if config is not None:
        return _oidc_account(config)
    token = st.session_state.get(TOKEN) or st.context.cookies.get(COOKIE)
    if not token:
        return None
    session_id = get_signer().session_id(token)
    account = get_accounts().session_account(session_id) if session_id else None
    if account is None:
        st.session_state.pop(TOKEN, None)
        return None
    st.session_state[TOKEN] = token
    return account


def keep_cookie() -> None:
    """Refresh the sign-in cookie in the browser (idempotent; the token is this browser's own)."""
    token = st.session_state.get(TOKEN)
    if token and oidc_config() is None:
        _write_cookie(token)


def may(account: Account | None, action: Action) -> bool:
    return account is not None and allowed(account.role, action)


def require(action: Action) -> Account:
    """The signed-in account if its role may take `action`; otherwise says "not allowed" and stops the run."""
    account = current_account()
    if account is None:
        st.error("Not allowed: sign in first.")
        st.stop()
    if not allowed(account.role, action):
        st.error(NOT_ALLOWED.format(role=account.role.value))
        st.stop()
    return account


def sign_out() -> None:
    token = st.session_state.pop(TOKEN, None)
    session_id = get_signer().session_id(token) if token else None
    if session_id:
        get_accounts().close_session(session_id)
    st.session_state["signed_out"] = True
    for key in list(st.session_state):
        if key not in ("signed_out",):
            del st.session_state[key]
    if oidc_config() is not None:
        st.logout()


def _open_session(account: Account) -> None:
    session_id = get_accounts().open_session(account.id, timedelta(hours=settings().session_hours))
    st.session_state[TOKEN] = get_signer().sign(session_id)
    st.session_state.pop("signed_out", None)


def sign_in_page() -> None:
    """The only page an anonymous visitor sees: sign in (and register, when self-registration is on)."""
    if st.session_state.get("signed_out"):
        _write_cookie(None)
    st.title("Mastery Tutor")
    st.markdown("Learn one skill at a time: the tutor explains, asks you questions, and only moves on when you "
                "have shown you have **mastered** the skill. Sign in to start, or to continue where you left off.")
    config = oidc_config()
    if config is not None:
        provider = None if "client_id" in config else next(
            (k for k, v in config.items() if isinstance(v, Mapping)), None)
        if st.button("Sign in", type="primary", icon=":material/login:", key="oidc_sign_in"):
            if provider:
                st.login(provider)
            else:
                st.login()
        return
    tabs = st.tabs(["Sign in", "Register"]) if settings().self_registration else [st.container()]
    with tabs[0], st.form("sign-in", border=True):
        name = st.text_input("Sign-in name", max_chars=64, key="sign_in_name")
        password = st.text_input("Password", type="password", max_chars=200, key="sign_in_password")
        go = st.form_submit_button("Sign in", type="primary", icon=":material/login:")
    if go:
        try:
            account = get_accounts().authenticate(name, password, _client())
        except (Throttled, SignInRefused) as exc:
            log.info("sign-in refused for a name of %d characters from %s", len(name), _client())
            st.error(f"{str(exc).capitalize()}.")
        else:
            _open_session(account)
            st.rerun()
    if len(tabs) > 1:
        with tabs[1]:
            register_form()


def register_form() -> None:
    with st.form("register", border=True):
        name = st.text_input("Sign-in name", max_chars=64, key="register_name",
                             help="Letters of any script, digits, _ . @ -; no spaces")
        display = st.text_input("Your name as shown", max_chars=64, key="register_display")
        password = st.text_input("Password (at least 8 characters)", type="password", key="register_password")
        go = st.form_submit_button("Create my learner account", icon=":material/person_add:")
    if go:
        try:
            account = get_accounts().add(name, password, Role.LEARNER, display_name=display or name)
        except (AccountError, AccountNameError, PasswordError) as exc:
            st.error(str(exc))
            return
        _open_session(account)
        st.rerun()


def account_panel(account: Account) -> None:
    """The sidebar's who-am-I, the sign-out button and, for local accounts, changing the password."""
    with st.sidebar:
        st.markdown(f"Signed in as **{account.display_name}** ({account.role.value})")
        st.button("Sign out", on_click=sign_out, icon=":material/logout:", key="sign_out")
        if account.has_password:
            if account.must_change_password:
                st.warning("You signed in with a one-time password: choose your own now.")
            with st.expander("Change password", expanded=account.must_change_password), \
                    st.form("change-password", border=False):
                new = st.text_input("New password", type="password", key="new_password")
                go = st.form_submit_button("Change")
            if go:
                try:
                    get_accounts().reset_password(account.username, new)
                except PasswordError as exc:
                    st.error(str(exc))
                else:  # every session ended: open a new one for this browser
                    _open_session(account)
                    st.rerun()
