module github.com/matchd/matchd

go 1.26.8

require (
	github.com/cloudflare/ahocorasick v0.0.0-20240916140611-054963ec9396
	github.com/klauspost/compress v1.20.5
)
