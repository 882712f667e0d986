"""The project database: job seekers, consents and profiles, shared by actions, gateway and CLI."""
