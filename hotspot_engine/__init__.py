"""Hotspot engine: serious-violence hotspots, patrol dosage and impact evaluation.

A plain Python package with no Streamlit import, shared by the Streamlit app and the command line
(``python -m hotspot_engine``). See ``../ARCHITECTURE`` notes in the README for the data flow.
"""
__version__ = "0.1.0"
