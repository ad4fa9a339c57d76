"""A project's glossary: terms its translations keep as they are, or translate its own way."""
