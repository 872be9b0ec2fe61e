# Everything a Sluice gcs and bigquery connection needs, under the names `sluice profile from-terraform` reads.

output "project_id" {
  description = "The project of the bucket, the dataset and the BigQuery jobs (project_id of both connections)."
  value       = var.project_id
}

output "bucket_name" {
  description = "The lake bucket (bucket of the gcs connection)."
  value       = google_storage_bucket.lake.name
}

output "bucket_url" {
  description = "The lake bucket as a gs:// URL."
  value       = google_storage_bucket.lake.url
}

output "dataset_id" {
  description = "The warehouse dataset (dataset of the bigquery connection)."
  value       = google_bigquery_dataset.warehouse.dataset_id
}

output "location" {
  description = "Location of the bucket and the dataset (location of the bigquery connection: where its jobs run)."
  value       = google_bigquery_dataset.warehouse.location
}

output "service_account_email" {
  description = "The service account the pipelines run as."
  value       = google_service_account.sluice.email
}

output "service_account_key_json" {
  description = "The service account's JSON key (null when create_service_account_key is false). `sluice profile from-terraform` writes it to its own file, mode 0600, never into sluice.yaml."
  value       = var.create_service_account_key ? base64decode(google_service_account_key.sluice[0].private_key) : null
  sensitive   = true
}
