terraform {
  # An upper bound on both: a new major version of Terraform or of the provider may rename or drop
  # arguments, and an unchanged module should not start planning differently on its own.
  required_version = ">= 1.3.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }
}
