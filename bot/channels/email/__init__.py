"""E-mail: notices and summaries to recruiters over SMTP."""
