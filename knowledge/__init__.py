"""The written guide and the retrieval engine over it. Never imports discord or storage."""
