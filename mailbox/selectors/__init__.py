"""Read-only queries for the pages, a module per concern, each scoped to a person: `folders`
(the sidebar), `listing` (message lists and search results, keyset pages), `query` (the search
box's language), `message` (one message and its conversation). Changes go through services."""
