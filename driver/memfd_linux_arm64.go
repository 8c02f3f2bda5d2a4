package driver

const sysMemfdCreate = 279 // memfd_create on linux/arm64
