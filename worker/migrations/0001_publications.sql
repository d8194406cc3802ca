CREATE TABLE `publications` (
	`id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`request_hash` text NOT NULL,
	`content_hash` text NOT NULL,
	`status` text NOT NULL,
	`step` text NOT NULL,
	`error_code` text,
	`error_message` text,
	`ciphertext_cid` text,
	`metadata_cid` text,
	`chain_id` integer,
	`token_id` text,
	`tx_hash` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `publications_owner_key` ON `publications` (`owner`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `publications_content` ON `publications` (`content_hash`);