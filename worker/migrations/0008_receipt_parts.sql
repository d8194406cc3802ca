-- Receipts of jobs across assets (R67): one row per part, keyed (chain, job, part); single jobs are part 0.
CREATE TABLE `__new_receipts` (
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
	`part` integer DEFAULT 0 NOT NULL,
	`part_count` integer,
	PRIMARY KEY(`chain_id`, `job_id`, `part`)
);
--> statement-breakpoint
INSERT INTO `__new_receipts`("chain_id", "job_id", "licence_id", "token_id", "enclave", "content_hash", "query_hash", "result_hash", "epsilon_spent_milli", "measurement", "signature", "tx_hash", "block_number", "block_time", "part", "part_count") SELECT "chain_id", "job_id", "licence_id", "token_id", "enclave", "content_hash", "query_hash", "result_hash", "epsilon_spent_milli", "measurement", "signature", "tx_hash", "block_number", "block_time", 0, NULL FROM `receipts`;--> statement-breakpoint
DROP TABLE `receipts`;--> statement-breakpoint
ALTER TABLE `__new_receipts` RENAME TO `receipts`;--> statement-breakpoint
CREATE INDEX `receipts_licence` ON `receipts` (`chain_id`,`licence_id`);--> statement-breakpoint
CREATE INDEX `receipts_token` ON `receipts` (`chain_id`,`token_id`);