"""The Streamlit front end: `streamlit run ui/app.py` (pages: learn, content, evaluate). Rendering only."""
