// What DBeaver and Metabase do over pgjdbc, the PostgreSQL JDBC driver, against the wire
// endpoint: connect with the token as the password, list the schemas, tables and columns
// (DatabaseMetaData), run a prepared statement with a parameter. Run in source-file mode:
//   java -cp /usr/share/java/postgresql.jar JdbcClient.java PORT TOKEN TABLE [QUERY VALUE]...
// It prints one line per answer, its fields separated by tabs, for the test to read; each
// QUERY has one `?`, bound to VALUE as a string.

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.Properties;

public class JdbcClient {
    public static void main(String[] args) throws SQLException {
        String port = args[0], token = args[1], table = args[2];
        Properties props = new Properties();
        props.setProperty("user", "bi");
        props.setProperty("password", token);
        // prepare on the server from the first execution, as BI tools' pools end up doing
        props.setProperty("prepareThreshold", "1");
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/semantic";
        try (Connection conn = DriverManager.getConnection(url, props)) {
            DatabaseMetaData meta = conn.getMetaData();
            System.out.println("product\t" + meta.getDatabaseProductName() + "\t"
                + meta.getDatabaseProductVersion());
            try (ResultSet rs = meta.getCatalogs()) {
                while (rs.next()) System.out.println("catalog\t" + rs.getString("TABLE_CAT"));
            }
            try (ResultSet rs = meta.getSchemas()) {
                while (rs.next()) System.out.println("schema\t" + rs.getString("TABLE_SCHEM"));
            }
            try (ResultSet rs = meta.getTables(null, null, "%", new String[] {"TABLE", "VIEW"})) {
                while (rs.next()) {
                    System.out.println("table\t" + rs.getString("TABLE_SCHEM") + "\t"
                        + rs.getString("TABLE_NAME") + "\t" + rs.getString("TABLE_TYPE") + "\t"
                        + rs.getString("REMARKS"));
                }
            }
            try (ResultSet rs = meta.getColumns(null, null, table, "%")) {
                while (rs.next()) {
                    System.out.println("column\t" + rs.getString("TABLE_NAME") + "\t"
                        + rs.getString("COLUMN_NAME") + "\t" + rs.getString("TYPE_NAME") + "\t"
                        + rs.getInt("DATA_TYPE") + "\t" + rs.getString("REMARKS"));
                }
            }
            try (ResultSet rs = meta.getPrimaryKeys(null, null, table)) {
                while (rs.next()) System.out.println("key\t" + rs.getString("COLUMN_NAME"));
            }
            try (ResultSet rs = meta.getImportedKeys(null, null, table)) {
                while (rs.next()) System.out.println("foreign\t" + rs.getString("FKCOLUMN_NAME"));
            }
            try (ResultSet rs = meta.getIndexInfo(null, null, table, false, true)) {
                while (rs.next()) System.out.println("index\t" + rs.getString("INDEX_NAME"));
            }
            for (int q = 3; q + 1 < args.length; q += 2) {
                query(conn, args[q], args[q + 1]);
            }
        }
    }

    static void query(Connection conn, String query, String value) throws SQLException {
        // twice: pgjdbc prepares the statement on the server (Parse, Describe) the first
        // time and reuses it the second
        for (int run = 0; run < 2; run++) {
            try (PreparedStatement ps = conn.prepareStatement(query)) {
                ps.setString(1, value);
                try (ResultSet rs = ps.executeQuery()) {
                    ResultSetMetaData columns = rs.getMetaData();
                    StringBuilder head = new StringBuilder("head");
                    for (int i = 1; i <= columns.getColumnCount(); i++) {
                        head.append('\t').append(columns.getColumnLabel(i));
                    }
                    System.out.println(head);
                    while (rs.next()) {
                        StringBuilder row = new StringBuilder("row");
                        for (int i = 1; i <= columns.getColumnCount(); i++) {
                            row.append('\t').append(rs.getString(i));
                        }
                        System.out.println(row);
                    }
                }
            }
        }
    }
}
