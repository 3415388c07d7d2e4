package udpbatch

const sysSendmmsg = 307
