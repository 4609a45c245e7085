// Walks a planar (CHWc) band of an annotated tensor segment by segment in buffer order (planes,
// rows, block columns), as the zero-block decoder and the encoder's second pass both do
// (docs/engine.md). For the current segment it gives the bitmap bit index (bitmap rows of the
// band: block row, then [cb][wb]), the DRAM address and the first buffer row; `advance_i` moves
// to the next segment. Counters and adders only.
module gatec_zb_walker #(
  parameter int unsigned B            = 16,
  parameter int unsigned RowAddrWidth = 16,
  parameter int unsigned BitIdxW      = 14
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    start_i,
  input  logic [15:0]             planes_i,
  input  logic [15:0]             rows_i,
  input  logic [15:0]             nwb_i,
  input  logic [15:0]             seg_beats_i,
  input  logic [RowAddrWidth-1:0] seg_rows_i,
  input  logic [15:0]             bh_i,
  input  logic [15:0]             bm_row_i,
  input  logic [15:0]             k_i,
  input  logic [31:0]             plane_bytes_i,
  input  logic [31:0]             addr_i,
  input  logic [RowAddrWidth-1:0] row_i,
  input  logic                    advance_i,
  output logic                    walking_o,
  output logic [BitIdxW-1:0]      bit_idx_o,
  output logic [31:0]             seg_addr_o,
  output logic [RowAddrWidth-1:0] row_o
);
  logic [15:0] planes_q, rows_q, nwb_q, seg_beats_q, bh_q, bm_row_q, k_q;
  logic [RowAddrWidth-1:0] seg_rows_q;
  logic [31:0] plane_bytes_q, plane_addr_q;
  logic [15:0] cg_q, y_q, yb_q, wb_q, kc_q;
  logic [BitIdxW-1:0] bit_hb_q, bit_cb_q;

  assign bit_idx_o = bit_hb_q + bit_cb_q + BitIdxW'(wb_q);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      walking_o <= 1'b0;
      cg_q <= '0; y_q <= '0; yb_q <= '0; wb_q <= '0; kc_q <= '0;
      bit_hb_q <= '0; bit_cb_q <= '0;
    end else if (start_i) begin
      planes_q      <= planes_i;
      rows_q        <= rows_i;
      nwb_q         <= nwb_i;
      seg_beats_q   <= seg_beats_i;
      seg_rows_q    <= seg_rows_i;
      bh_q          <= bh_i;
      bm_row_q      <= bm_row_i;
      k_q           <= k_i;
      plane_bytes_q <= plane_bytes_i;
      plane_addr_q  <= addr_i;
      seg_addr_o    <= addr_i;
      row_o         <= row_i;
      walking_o     <= 1'b1;
      cg_q <= '0; y_q <= '0; yb_q <= '0; wb_q <= '0; kc_q <= '0;
      bit_hb_q <= '0; bit_cb_q <= '0;
    end else if (advance_i && walking_o) begin
      seg_addr_o <= seg_addr_o + (32'(seg_beats_q) << $clog2(B));
      row_o      <= row_o + seg_rows_q;
      if (wb_q != nwb_q - 16'd1) begin
        wb_q <= wb_q + 16'd1;
      end else begin
        wb_q <= '0;
        if (y_q != rows_q - 16'd1) begin
          y_q <= y_q + 16'd1;
          if (yb_q != bh_q - 16'd1) begin
            yb_q <= yb_q + 16'd1;
          end else begin
            yb_q     <= '0;
            bit_hb_q <= bit_hb_q + BitIdxW'({bm_row_q, 3'b000});
          end
        end else begin
          // next plane: rows and block rows restart, the channel block may advance
          y_q          <= '0;
          yb_q         <= '0;
          bit_hb_q     <= '0;
          plane_addr_q <= plane_addr_q + plane_bytes_q;
          seg_addr_o   <= plane_addr_q + plane_bytes_q;
          if (kc_q != k_q - 16'd1) begin
            kc_q <= kc_q + 16'd1;
          end else begin
            kc_q     <= '0;
            bit_cb_q <= bit_cb_q + BitIdxW'(nwb_q);
          end
          if (cg_q == planes_q - 16'd1) walking_o <= 1'b0;
          cg_q <= cg_q + 16'd1;
        end
      end
    end
  end
endmodule
