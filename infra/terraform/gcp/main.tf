# The GCP side of the Zoomcamp pipelines Sluice runs: a GCS bucket for the data lake, a BigQuery dataset for
# the warehouse, and a service account allowed to use exactly those two (plus run BigQuery jobs).
# `terraform output -json > outputs.json && sluice profile from-terraform outputs.json` writes the matching
# gcs and bigquery connections into sluice.yaml.

# Credentials come from Application Default Credentials (`gcloud auth application-default login`, or
# GOOGLE_APPLICATION_CREDENTIALS): whoever applies this module needs to create buckets, datasets, service
# accounts and IAM bindings, which is far more than the pipelines' own account may do.
provider "google" {
  project = var.project_id
  region  = var.region
}

locals {
  sluice_member = "serviceAccount:${google_service_account.sluice.email}"
}

resource "google_storage_bucket" "lake" {
  name          = var.bucket_name
  location      = var.location
  storage_class = var.storage_class
  force_destroy = var.force_destroy
  labels        = var.labels

  # IAM alone decides access (no per-object ACLs), so the bucket-level bindings below are the whole story.
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = var.versioning
  }

  dynamic "lifecycle_rule" {
    for_each = var.object_max_age_days == null ? [] : [var.object_max_age_days]
    content {
      condition {
        age = lifecycle_rule.value
      }
      action {
        type = "Delete"
      }
    }
  }

  # With versioning, a replaced dataset's old files live on as noncurrent versions: bound how long.
  dynamic "lifecycle_rule" {
    for_each = var.versioning ? [var.noncurrent_version_retention_days] : []
    content {
      condition {
        days_since_noncurrent_time = lifecycle_rule.value
        with_state                 = "ARCHIVED"
      }
      action {
        type = "Delete"
      }
    }
  }
}

resource "google_bigquery_dataset" "warehouse" {
  dataset_id  = var.dataset_id
  location    = var.location
  description = "Warehouse tables loaded by Sluice pipelines from the ${var.bucket_name} lake."
  labels      = var.labels

  default_table_expiration_ms = var.default_table_expiration_days == null ? null : var.default_table_expiration_days * 24 * 60 * 60 * 1000
  delete_contents_on_destroy  = var.force_destroy
}

resource "google_service_account" "sluice" {
  account_id   = var.service_account_id
  display_name = "Sluice pipelines"
  description  = "Runs Sluice blocks: objects of gs://${var.bucket_name}, tables of ${var.dataset_id}, BigQuery jobs."
}

# Read, write and delete objects in the lake bucket and nowhere else.
resource "google_storage_bucket_iam_member" "lake_object_admin" {
  bucket = google_storage_bucket.lake.name
  role   = "roles/storage.objectAdmin"
  member = local.sluice_member
}

# Sluice checks that a bucket exists before it writes or lists a dataset (storage.buckets.get), which
# objectAdmin does not grant. This legacy role grants it (with objects.list) on this bucket only; it cannot
# be granted on a project, so it stays as narrow as the binding above.
resource "google_storage_bucket_iam_member" "lake_bucket_reader" {
  bucket = google_storage_bucket.lake.name
  role   = "roles/storage.legacyBucketReader"
  member = local.sluice_member
}

# Create, load, replace and read tables in the warehouse dataset and no other.
resource "google_bigquery_dataset_iam_member" "warehouse_data_editor" {
  dataset_id = google_bigquery_dataset.warehouse.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = local.sluice_member
}

# Load jobs and queries are BigQuery jobs, and jobs belong to a project, not to a dataset: the permission to
# create one (bigquery.jobs.create) can only be granted on a project (or above), never on a dataset or table.
# It lets the account run jobs billed to this project; what those jobs may read or write is still limited by
# the dataset and bucket bindings above.
resource "google_project_iam_member" "bigquery_job_user" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = local.sluice_member
}

resource "google_service_account_key" "sluice" {
  count              = var.create_service_account_key ? 1 : 0
  service_account_id = google_service_account.sluice.name
}
