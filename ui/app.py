"""Mastery Tutor in the browser: `streamlit run ui/app.py`.

The entry point only sets up the page frame: one Tutor per process, the offline banner, sign-in, and the
navigation. An anonymous visitor sees only the sign-in page. A signed-in person's sidebar lists only the pages
their role may use; the other pages stay reachable by URL but show "not allowed" instead of running.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` puts ui/ on the path, not the project root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from tutor.auth import Action, allowed  # noqa: E402
from tutor.errors import SetupError  # noqa: E402
from ui import auth  # noqa: E402
from ui.state import get_tutor  # noqa: E402

OFFLINE_BANNER = (
    "Running offline: explanations come from the course material; set ANTHROPIC_API_KEY to use Claude."
)
PAGES = Path(__file__).parent / "pages"
# Each page with the action its role must allow (no bare string here: Streamlit's magic would show it).
ROLE_PAGES: list[tuple[str, str, str, Action]] = [
    ("learn.py", "Learn", ":material/school:", Action.LEARN),
    ("content.py", "Content", ":material/library_books:", Action.CONTENT_VIEW),
    ("evaluate.py", "Evaluate", ":material/monitoring:", Action.EVALUATE),
    ("instructor.py", "Instructor", ":material/groups:", Action.VIEW_PROGRESS),
    ("review.py", "Review", ":material/rate_review:", Action.REVIEW_ANSWERS),
    ("admin.py", "Admin", ":material/manage_accounts:", Action.MANAGE_USERS),
]


def main() -> None:
    st.set_page_config(page_title="Mastery Tutor", page_icon=":material/school:", layout="wide")
    try:
        tutor = get_tutor()
    except SetupError as exc:  # the same one line the CLI prints
        st.error(f"The tutor cannot start: {exc}", icon=":material/error:")
        st.stop()
    account = auth.current_account()
    if account is None:
        st.navigation([st.Page(auth.sign_in_page, title="Sign in", icon=":material/login:", url_path="sign-in")],
                      position="hidden").run()
        return
    auth.keep_cookie()
    if tutor.offline:
        st.info(OFFLINE_BANNER, icon=":material/cloud_off:")
    pages = [
        st.Page(PAGES / file, title=title, icon=icon, default=(file == "learn.py"),
                visibility="visible" if allowed(account.role, action) else "hidden")
        for file, title, icon, action in ROLE_PAGES
    ]
    needs = {p.url_path: action for p, (*_, action) in zip(pages, ROLE_PAGES, strict=True)}
    page = st.navigation(pages)
    auth.account_panel(account)
    if not allowed(account.role, needs.get(page.url_path, Action.MANAGE_USERS)):
        st.error(auth.NOT_ALLOWED.format(role=account.role.value), icon=":material/block:")
        return
    page.run()


main()
