"""Hotspot engine: serious-violence hotspots, patrol dosage and impact evaluation.

A plain Python package with no Streamlit import, shared by the Streamlit app and the command line
(``python -m hotspot_engine``). docs/architecture.md draws the data flow
(read -> store/query -> analyse -> render/write) and says where each kind of change goes.
"""
__version__ = "0.1.0"
