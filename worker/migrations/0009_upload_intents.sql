CREATE TABLE `upload_intents` (
	`nonce` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `upload_intents_owner` ON `upload_intents` (`owner`,`created_at`);