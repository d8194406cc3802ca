CREATE TABLE `compute_jobs` (
	`job_id` text PRIMARY KEY NOT NULL,
	`chain_id` integer NOT NULL,
	`buyer` text NOT NULL,
	`licence_id` text NOT NULL,
	`token_id` text NOT NULL,
	`content_hash` text NOT NULL,
	`query_hash` text NOT NULL,
	`query` text NOT NULL,
	`result_public_key` text NOT NULL,
	`nonce` text NOT NULL,
	`deadline` integer NOT NULL,
	`signature` text NOT NULL,
	`ciphertext_cid` text NOT NULL,
	`origin` text NOT NULL,
	`status` text NOT NULL,
	`reason_code` text,
	`reason_message` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`receipt` text,
	`result_hash` text,
	`result_size` integer,
	`epsilon_spent_milli` integer,
	`measurement` text,
	`receipt_tx` text,
	`receipt_block` integer,
	`result_expires_at` integer,
	`result_deleted` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `compute_jobs_buyer_nonce` ON `compute_jobs` (`chain_id`,`buyer`,`nonce`);--> statement-breakpoint
CREATE INDEX `compute_jobs_status` ON `compute_jobs` (`status`,`updated_at`);--> statement-breakpoint
CREATE INDEX `compute_jobs_licence` ON `compute_jobs` (`chain_id`,`licence_id`,`status`);