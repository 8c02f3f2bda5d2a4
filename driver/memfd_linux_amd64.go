package driver

const sysMemfdCreate = 319 // memfd_create on linux/amd64
