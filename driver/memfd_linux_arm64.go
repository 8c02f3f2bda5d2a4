package driver

const sysMemfdCreate = 279 // memfd_create on linux/arm64
const sysSendmmsg = 269    // sendmmsg on linux/arm64
