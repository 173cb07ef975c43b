/home/$,bind $USERS
