$UID,copy
