# kcat: an independent Kafka client the tests run as a second process against the embedded broker.
need_cmd kcat kcat
