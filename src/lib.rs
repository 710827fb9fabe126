//! redis-idmp
