"""Publishing: each project's docs site under /p/{org_slug}/{project_slug}/, for anyone once
public, and for the team's members before that."""
