DROP TRIGGER check_ins_read_generation ON check_ins;
DROP FUNCTION check_in_read_generation();
