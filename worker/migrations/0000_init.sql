CREATE TABLE `chains` (
	`chain_id` integer PRIMARY KEY NOT NULL,
	`address_book` text NOT NULL,
	`indexed_block` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL
);
