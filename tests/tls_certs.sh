#!/usr/bin/env bash
# Makes the certificates the TLS tests use, with the openssl command, in DIR (created):
#   ca.pem ca.key                the test CA both hosts trust
#   server.pem server.key        from the CA, for DNS:localhost, IP:127.0.0.1 and IP:192.0.2.2
#                                (the soak's host B in its network namespace)
#   client.pem client.key        from the CA, for DNS:client.example (a mutual-TLS client)
#   expired.pem expired.key      from the CA, for localhost/127.0.0.1, expired yesterday
#   wrongname.pem wrongname.key  from the CA, for DNS:elsewhere.example only
#   rogue-ca.pem rogue.pem rogue.key   another CA nobody trusts, and a localhost/127.0.0.1
#                                cert from it
# Usage: tls_certs.sh DIR
set -euo pipefail
dir=${1:?usage: tls_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {  # NAME SUBJECT
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 30 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
leaf() {  # NAME CA CN SAN DAYS
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$3" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days "$5" \
    -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

ca ca "ipc test CA"
ca rogue-ca "rogue CA"
leaf server ca localhost "DNS:localhost,IP:127.0.0.1,IP:192.0.2.2" 30
leaf client ca client.example "DNS:client.example" 30
# -days -1: valid from now until yesterday, so expired from the start.
leaf expired ca localhost "DNS:localhost,IP:127.0.0.1" -1
leaf wrongname ca elsewhere.example "DNS:elsewhere.example" 30
leaf rogue rogue-ca localhost "DNS:localhost,IP:127.0.0.1" 30
