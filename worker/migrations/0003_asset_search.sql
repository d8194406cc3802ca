-- Full-text search over asset metadata (DESIGN.md §6: search with FTS5). Drizzle has no FTS5 DSL, so this
-- migration is written by hand. The indexer keeps one row per asset whose metadata is known: title,
-- description and tags are searchable; chain_id and token_id only identify the asset.
CREATE VIRTUAL TABLE `asset_search` USING fts5(
	`title`,
	`description`,
	`tags`,
	`chain_id` UNINDEXED,
	`token_id` UNINDEXED,
	tokenize = 'unicode61 remove_diacritics 2'
);
