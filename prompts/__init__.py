"""Templates and user-facing texts of newsbot, shipped as package data (see `index.texts`)."""
