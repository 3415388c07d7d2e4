package udpbatch

const sysSendmmsg = 269
