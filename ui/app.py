"""Mastery Tutor in the browser: `streamlit run ui/app.py`.

The entry point only sets up the page frame: one Tutor per process, the offline banner, and the navigation
between the Learn, Content and Evaluate pages.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` puts ui/ on the path, not the project root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from tutor.errors import SetupError  # noqa: E402
from ui.state import get_tutor  # noqa: E402

OFFLINE_BANNER = (
    "Running offline: explanations come from the course material; set ANTHROPIC_API_KEY to use Claude."
)
PAGES = Path(__file__).parent / "pages"


def main() -> None:
    st.set_page_config(page_title="Mastery Tutor", page_icon=":material/school:", layout="wide")
    try:
        tutor = get_tutor()
    except SetupError as exc:  # the same one line the CLI prints
        st.error(f"The tutor cannot start: {exc}", icon=":material/error:")
        st.stop()
    if tutor.offline:
        st.info(OFFLINE_BANNER, icon=":material/cloud_off:")
    page = st.navigation(
        [
            st.Page(PAGES / "learn.py", title="Learn", icon=":material/school:", default=True),
            st.Page(PAGES / "content.py", title="Content", icon=":material/library_books:"),
            st.Page(PAGES / "evaluate.py", title="Evaluate", icon=":material/monitoring:"),
        ]
    )
    page.run()


main()
