"""The Partner data page's pieces: cached service calls (``data``) and drawing (``draw``)."""
