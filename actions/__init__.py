"""Custom actions for the Rasa action server; the server finds every Action subclass here."""
