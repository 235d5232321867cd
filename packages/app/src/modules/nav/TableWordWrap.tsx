import { makeStyles } from '@material-ui/core/styles';

/*
 * Backstage's tables (material-table) give every body cell
 * `word-break: break-word`, which lets the browser squeeze a column below its
 * longest word. In the catalog, with eight columns side by side, the name
 * column came out "Backs / tage Entra / Start / er". Cells wrap between
 * words only, so the table gives each column at least the width of its
 * longest word and scrolls sideways when they do not all fit. (Long
 * descriptions are cut with an ellipsis by the catalog, not wrapped.)
 */
const useTableWordWrap = makeStyles({
  '@global': {
    '.MuiTable-root td.MuiTableCell-body': {
      wordBreak: 'normal',
      overflowWrap: 'normal',
    },
  },
});

export function TableWordWrap() {
  useTableWordWrap();
  return null;
}
