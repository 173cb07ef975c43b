uid
