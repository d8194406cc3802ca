CREATE TABLE `compute_job_parts` (
	`job_id` text NOT NULL,
	`part` integer NOT NULL,
	`chain_id` integer NOT NULL,
	`licence_id` text NOT NULL,
	`token_id` text NOT NULL,
	`content_hash` text NOT NULL,
	`table_name` text NOT NULL,
	`ciphertext_cid` text NOT NULL,
	`epsilon_spent_milli` integer,
	PRIMARY KEY(`job_id`, `part`)
);
--> statement-breakpoint
CREATE INDEX `compute_job_parts_licence` ON `compute_job_parts` (`chain_id`,`licence_id`);