package driver

const sysMemfdCreate = 319 // memfd_create on linux/amd64
const sysSendmmsg = 307    // sendmmsg on linux/amd64
