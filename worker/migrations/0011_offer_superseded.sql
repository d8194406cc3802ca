ALTER TABLE `offers` ADD `superseded` integer DEFAULT false NOT NULL;--> statement-breakpoint
-- Offers indexed before this column existed: superseded when a Transfer (not the mint) follows their OfferSet.
UPDATE `offers` SET `superseded` = 1 WHERE EXISTS (
  SELECT 1 FROM `events` s JOIN `events` t ON t.`chain_id` = s.`chain_id` AND t.`token_id` = s.`token_id`
  WHERE s.`chain_id` = `offers`.`chain_id` AND s.`token_id` = `offers`.`token_id` AND s.`tx_hash` = `offers`.`set_tx`
    AND s.`contract` = 'DataMarket' AND s.`name` = 'OfferSet' AND json_extract(s.`args`, '$.offerId') = `offers`.`offer_id`
    AND t.`contract` = 'DataAssetNFT' AND t.`name` = 'Transfer'
    AND lower(json_extract(t.`args`, '$.from')) != '0x0000000000000000000000000000000000000000'
    AND (t.`block_number` > s.`block_number` OR (t.`block_number` = s.`block_number` AND t.`log_index` > s.`log_index`))
);
