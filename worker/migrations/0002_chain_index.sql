CREATE TABLE `anchors` (
	`chain_id` integer NOT NULL,
	`anchor_id` text NOT NULL,
	`merkle_root` text NOT NULL,
	`leaf_count` integer NOT NULL,
	`to_block` integer NOT NULL,
	`anchored_by` text NOT NULL,
	`tx_hash` text NOT NULL,
	`block_number` integer NOT NULL,
	PRIMARY KEY(`chain_id`, `anchor_id`)
);
--> statement-breakpoint
CREATE TABLE `asset_metadata` (
	`digest` text PRIMARY KEY NOT NULL,
	`cid` text NOT NULL,
	`status` text NOT NULL,
	`title` text,
	`description` text,
	`tags` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`retry_at` integer,
	`fetched_at` integer
);
--> statement-breakpoint
CREATE TABLE `assets` (
	`chain_id` integer NOT NULL,
	`token_id` text NOT NULL,
	`contract` text NOT NULL,
	`owner` text NOT NULL,
	`content_hash` text,
	`metadata_digest` text,
	`amendment_count` integer DEFAULT 0 NOT NULL,
	`delegate` text,
	`revoked` integer DEFAULT false NOT NULL,
	`frozen` integer DEFAULT false NOT NULL,
	`freeze_reason` text,
	`royalty_receiver` text,
	`royalty_bps` integer,
	`minted_block` integer,
	`minted_time` integer,
	`minted_tx` text,
	`relayer` text,
	PRIMARY KEY(`chain_id`, `token_id`)
);
--> statement-breakpoint
CREATE INDEX `assets_owner` ON `assets` (`chain_id`,`owner`);--> statement-breakpoint
CREATE INDEX `assets_content` ON `assets` (`content_hash`);--> statement-breakpoint
CREATE TABLE `enclaves` (
	`chain_id` integer NOT NULL,
	`signer` text NOT NULL,
	`measurement` text NOT NULL,
	`cluster_public_key` text NOT NULL,
	`registered_block` integer NOT NULL,
	`active` integer NOT NULL,
	PRIMARY KEY(`chain_id`, `signer`)
);
--> statement-breakpoint
CREATE TABLE `events` (
	`chain_id` integer NOT NULL,
	`block_number` integer NOT NULL,
	`block_hash` text NOT NULL,
	`block_time` integer NOT NULL,
	`tx_hash` text NOT NULL,
	`log_index` integer NOT NULL,
	`address` text NOT NULL,
	`contract` text NOT NULL,
	`name` text NOT NULL,
	`args` text NOT NULL,
	`detail` text,
	`token_id` text,
	`licence_id` text,
	PRIMARY KEY(`chain_id`, `block_number`, `log_index`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_tx_log` ON `events` (`chain_id`,`tx_hash`,`log_index`);--> statement-breakpoint
CREATE INDEX `events_token` ON `events` (`chain_id`,`token_id`);--> statement-breakpoint
CREATE INDEX `events_licence` ON `events` (`chain_id`,`licence_id`);--> statement-breakpoint
CREATE TABLE `indexed_blocks` (
	`chain_id` integer NOT NULL,
	`number` integer NOT NULL,
	`hash` text NOT NULL,
	PRIMARY KEY(`chain_id`, `number`)
);
--> statement-breakpoint
CREATE TABLE `indexer_guard` (
	`chain_id` integer NOT NULL,
	`ok` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `licences` (
	`chain_id` integer NOT NULL,
	`licence_id` text NOT NULL,
	`token_id` text NOT NULL,
	`offer_id` text NOT NULL,
	`buyer` text NOT NULL,
	`owner` text NOT NULL,
	`currency` text NOT NULL,
	`price` text NOT NULL,
	`fee` text NOT NULL,
	`expires_at` integer NOT NULL,
	`jobs_left` integer,
	`epsilon_left_milli` integer,
	`purchased_tx` text NOT NULL,
	`purchased_block` integer NOT NULL,
	`purchased_time` integer NOT NULL,
	PRIMARY KEY(`chain_id`, `licence_id`)
);
--> statement-breakpoint
CREATE INDEX `licences_token` ON `licences` (`chain_id`,`token_id`);--> statement-breakpoint
CREATE INDEX `licences_buyer` ON `licences` (`chain_id`,`buyer`);--> statement-breakpoint
CREATE TABLE `market_settings` (
	`chain_id` integer PRIMARY KEY NOT NULL,
	`treasury` text,
	`fee_bps` integer
);
--> statement-breakpoint
CREATE TABLE `measurements` (
	`chain_id` integer NOT NULL,
	`measurement` text NOT NULL,
	`approved` integer NOT NULL,
	`changed_by` text NOT NULL,
	`changed_block` integer NOT NULL,
	PRIMARY KEY(`chain_id`, `measurement`)
);
--> statement-breakpoint
CREATE TABLE `offers` (
	`chain_id` integer NOT NULL,
	`token_id` text NOT NULL,
	`offer_id` text NOT NULL,
	`owner` text NOT NULL,
	`set_by` text NOT NULL,
	`price` text NOT NULL,
	`currency` text NOT NULL,
	`duration` integer NOT NULL,
	`max_jobs` integer NOT NULL,
	`epsilon_budget_milli` integer NOT NULL,
	`purposes` integer NOT NULL,
	`withdrawn` integer DEFAULT false NOT NULL,
	`set_tx` text NOT NULL,
	`set_block` integer NOT NULL,
	`withdrawn_tx` text,
	PRIMARY KEY(`chain_id`, `token_id`, `offer_id`)
);
--> statement-breakpoint
CREATE TABLE `payments` (
	`chain_id` integer NOT NULL,
	`block_number` integer NOT NULL,
	`log_index` integer NOT NULL,
	`account` text NOT NULL,
	`kind` text NOT NULL,
	`currency` text NOT NULL,
	`amount` text NOT NULL,
	`licence_id` text,
	`token_id` text,
	`tx_hash` text NOT NULL,
	PRIMARY KEY(`chain_id`, `block_number`, `log_index`, `account`)
);
--> statement-breakpoint
CREATE INDEX `payments_account` ON `payments` (`chain_id`,`account`);--> statement-breakpoint
CREATE TABLE `receipts` (
	`chain_id` integer NOT NULL,
	`job_id` text NOT NULL,
	`licence_id` text NOT NULL,
	`token_id` text,
	`enclave` text NOT NULL,
	`content_hash` text NOT NULL,
	`query_hash` text NOT NULL,
	`result_hash` text NOT NULL,
	`epsilon_spent_milli` integer NOT NULL,
	`measurement` text NOT NULL,
	`signature` text,
	`tx_hash` text NOT NULL,
	`block_number` integer NOT NULL,
	`block_time` integer NOT NULL,
	PRIMARY KEY(`chain_id`, `job_id`)
);
--> statement-breakpoint
CREATE INDEX `receipts_licence` ON `receipts` (`chain_id`,`licence_id`);