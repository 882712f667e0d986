"""Pages for people who are not job seekers: the recruiter page (the admin page next)."""
