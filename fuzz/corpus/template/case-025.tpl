/home/$NOPE,bind
