variable "project_id" {
  description = "The GCP project that holds the lake bucket, the warehouse dataset and the service account."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6 to 30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Default region of the google provider (used by resources that take a region; the bucket and dataset use location)."
  type        = string
  default     = "us-central1"
}

variable "location" {
  description = <<-EOT
    Location of BOTH the bucket and the dataset (a multi-region such as US or EU, or a region such as
    europe-west1). They share it on purpose: a BigQuery load job reads from a bucket only when the dataset is
    co-located with it, so a lake in one place and a warehouse in another fails at the first load.
  EOT
  type        = string
  default     = "US"
}

variable "bucket_name" {
  description = "Name of the lake bucket. Bucket names are global across all of GCP: prefix it with something of yours (e.g. the project id)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][-_a-z0-9]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3 to 63 lowercase letters, digits, hyphens or underscores, starting and ending with a letter or digit."
  }
}

variable "storage_class" {
  description = "Storage class of new objects in the lake bucket."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"], var.storage_class)
    error_message = "storage_class must be STANDARD, NEARLINE, COLDLINE or ARCHIVE."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with the objects in it, and the dataset with its tables. Off by default: a destroy then stops at a non-empty lake or warehouse instead of deleting data."
  type        = bool
  default     = false
}

variable "versioning" {
  description = "Keep overwritten and deleted objects as noncurrent versions (recoverable). Sluice's `replace` writes delete the previous files of a dataset on every run, so with versioning on those files are kept as noncurrent versions until noncurrent_version_retention_days."
  type        = bool
  default     = false
}

variable "noncurrent_version_retention_days" {
  description = "With versioning on, delete noncurrent object versions this many days after they became noncurrent."
  type        = number
  default     = 7

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "object_max_age_days" {
  description = "Delete lake objects this many days after they were created (a lifecycle rule). Sluice rewrites a dataset's files on each run, so only data no run has touched for this long goes. null keeps objects forever."
  type        = number
  default     = 90

  validation {
    condition     = var.object_max_age_days == null || try(var.object_max_age_days >= 1, false)
    error_message = "object_max_age_days must be at least 1, or null to keep objects forever."
  }
}

variable "dataset_id" {
  description = "The BigQuery dataset of the warehouse (the `dataset` of the bigquery profile: bare table names resolve in it)."
  type        = string
  default     = "zoomcamp"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.dataset_id))
    error_message = "dataset_id may hold only letters, digits and underscores (at most 1024)."
  }
}

variable "default_table_expiration_days" {
  description = "Delete tables of the dataset this many days after they were created, unless a table sets its own expiration. null (the default) keeps tables forever."
  type        = number
  default     = null

  validation {
    # BigQuery refuses a default table expiration shorter than one hour; whole days keep this simple.
    condition     = var.default_table_expiration_days == null || try(var.default_table_expiration_days >= 1, false)
    error_message = "default_table_expiration_days must be at least 1, or null to keep tables forever."
  }
}

variable "service_account_id" {
  description = "Account id (the part before @) of the service account Sluice's pipelines run as."
  type        = string
  default     = "sluice-pipelines"

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.service_account_id))
    error_message = "service_account_id must be 6 to 30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "create_service_account_key" {
  description = <<-EOT
    Create a JSON key for the service account and expose it as the sensitive output service_account_key_json.
    A key is what a laptop or a VM outside GCP needs to act as the account, but it is a long-lived secret: it
    never expires, works from anywhere, and is stored in the Terraform state (keep the state private). Where
    Sluice runs on GCP (GCE, GKE, Cloud Run) or from CI with workload identity federation, set this to false
    and let the runtime's Application Default Credentials impersonate the account instead. Organisations
    with the iam.disableServiceAccountKeyCreation policy refuse keys altogether.
  EOT
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels set on the bucket and the dataset."
  type        = map(string)
  default     = {}
}
