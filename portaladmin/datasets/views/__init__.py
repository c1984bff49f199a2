"""Views of the datasets app: thin FBVs (permission → form → one selector/service → page or partial)."""
