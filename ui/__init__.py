"""Streamlit-side helpers shared by the pages (language, errors, sidebar, state, navigation).

Everything that touches ``st`` lives here or in ``pages/``; ``mlcore`` never imports streamlit.
"""
