SELEC vendor_id FROM load_trips
